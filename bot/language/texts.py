"""Every fixed sentence the engine says, as lazy gettext constants (translated when shown).

Keep them short and plain: see locales/STYLE.md (tests measure it: tests/test_plain_language.py).
"""

from bot.language.i18n import __, __n

CHOOSE_LANGUAGE = __("Choose your language.")
UNKNOWN_LINK = __("I do not know this link. Please ask your coordinator for a new one.")
NO_PROGRAMME = __("Please open the link you got from your coordinator.")

# Bump CONSENT_VERSION whenever CONSENT changes, in any language: the version is stored with
# each person's consent so we know which text they agreed to.
CONSENT_VERSION = "2026-11-1"
CONSENT = __(
    "Before we start, please read this.\n\n"
    "We ask you some questions. We save your answers.\n"
    "Only the staff of your mentor programme can see them.\n"
    "You decide if you want to answer. You can stop at any time.\n"
    "You can ask us to delete your answers.\n\n"
    "Is this okay for you?"
)
CONSENT_YES = __("Yes, I agree")
CONSENT_NO = __("No")
CONSENT_DECLINED = __("Okay. We have not saved any answers. If you change your mind, send /start.")

WELCOME_BACK = __("Welcome back! Let us go on where you stopped.")
INTAKE_DONE = __(
    "Thank you! You have answered all the questions.\n\n"
    "What happens now: your coordinator reads your answers. "
    "They will contact you within two weeks to talk about a mentor for you."
)

CONTACT_DONE = __("Thank you for your answers! They help us support you and your mentor.")
NOTHING_OPEN = __("Thank you! There are no questions for you right now. We will write to you.")
SURVEY_CLOSED = __("These questions are closed now. Thank you!")
CHOOSE_ANONYMITY = __(
    "Do you want to answer with your name, or without it?\n\n"
    "Without your name, your coordinator cannot see who gave these answers."
)
WITH_NAME = __("With my name")
WITHOUT_NAME = __("Without my name")
INVITATION = __("Hello! We have some short questions for you: {title}.\nIt takes a few minutes.")
REMINDER = __(
    "A friendly reminder: your questions are waiting ({title}).\nTap the button to go on."
)
START_SURVEY = __("Start ▶")
CONTINUE_SURVEY = __("Continue ▶")

PRESS_A_BUTTON = __("Please tap one of the buttons.")
MULTI_HINT = __("You can choose more than one. Tap Done when you are ready.")
TEXT_HINT = __("Please write your answer. Or send a voice message.")
TEXT_ONLY_HINT = __("Please write your answer.")  # where voice cannot be sent (the terminal)
NUMBER_HINT = __("Please write a number from {min} to {max}.")
CHOOSE_AT_LEAST_ONE = __("Please choose at least one answer, then tap Done.")
WRITE_SOMETHING = __("Your message was empty. Please write your answer.")
TOO_LONG = __n(
    "Your answer is too long. Please use at most {limit} character.",
    "Your answer is too long. Please use at most {limit} characters.",
    "limit",
)
NOT_A_NUMBER = __("Please write only a number from {min} to {max}.")
ONLY_TEXT = __("I can only take text or a voice message here. Please write your answer.")
VOICE_ANSWER = __("🎤 Voice message ({seconds} s)")
OLD_BUTTON = __("That button belongs to an earlier question. Here is the current question.")
NOT_UNDERSTOOD = __("Sorry, I did not understand that.")
CANNOT_SKIP = __("This question cannot be skipped.")

BACK = __("◀ Back")
SKIP = __("Skip")
DONE = __("Done ✓")
NEXT = __("Next ▶")
PREFER_NOT = __("Prefer not to say")
WHY_BUTTON = __("❓ Why do we ask?")
SKIPPED = __("(skipped)")
WENT_BACK = __("(you went back)")
YOUR_ANSWERS = __("Your answers:")

MYDATA_INTRO = __("This is everything we have saved about you.")
MYDATA_PROFILE = __("Programme: {programme}\nLanguage: {language}\nYou agreed on: {consent}")
MYDATA_MATCH = __("Your mentor match: from {start} to {end}")
MYDATA_PLANNED = __("We plan to write to you on these days:")
MYDATA_ANONYMOUS = __(
    "Answers you gave without your name are not in this list. Nothing links them to you."
)
MYDATA_MESSAGES = __("Messages between you and your coordinator:")
MYDATA_YOU = __("You")
MYDATA_COORDINATOR = __("Coordinator")
MYDATA_DELETE_HINT = __("To delete your data, send /delete.")
MYDATA_NOTHING = __("We have nothing saved about you.")
DELETE_CONFIRM = __(
    "Do you want us to delete your data?\n\n"
    "We delete your name, your contact details and your answers. "
    "We stop writing to you. Your coordinator only learns that you stopped.\n\n"
    "This cannot be undone."
)
DELETE_YES = __("Yes, delete my data")
DELETE_NO = __("No, keep it")
DELETE_DONE = __("Your data is deleted. Thank you for taking part. To start again, send /start.")
DELETE_CANCELLED = __("Okay. We keep your data. Nothing changes.")

TALK_BUTTON = __("💬 Talk to a person")
TALK_ASK = __("Write your message for your coordinator.\nOr tap Send, and they will contact you.")
TALK_SEND = __("Send")
TALK_CANCEL = __("Cancel")
TALK_CANCELLED = __("Okay. Nothing was sent.")
TALK_PROMISE = __n(
    "Thank you. Your coordinator will answer you within {days} working day.",
    "Thank you. Your coordinator will answer you within {days} working days.",
    "days",
)
ANSWER_ASK = __("Write your answer to your coordinator. Then send it.")
ANSWER_SENT = __("Thank you. Your coordinator gets your answer now.")

ANONYMOUS_FLAG_ASK = __(
    "One of your answers is important for your coordinator.\n"
    "Your answers stay without your name. Do you want your coordinator to contact you about it?"
)
CONTACT_ME_YES = __("Yes, contact me")
CONTACT_ME_NO = __("No, thank you")
CONTACT_ME_DONE = __("Thank you. Your coordinator will contact you.")
CONTACT_ME_NOT = __("Okay. Your answers stay without your name.")
# Before a request to be contacted leaves an anonymous survey: it gives up anonymity for it.
CONTACT_ME_CONSENT = __(
    "To contact you, your coordinator must know who you are.\n"
    "They will see your name and this answer. They can write to you here.\n"
    "Your other answers stay without your name.\n"
    "Send your request with your name?"
)
CONTACT_ME_SEND = __("Yes, send it with my name")
CONTACT_ME_DONT_SEND = __("No, do not send")
CONTACT_ME_NOT_SENT = __("Okay. Nothing was sent. Your answers stay without your name.")
# "Talk to a person" in the middle of an anonymous survey: the message goes with her name.
TALK_CONSENT = __(
    "You answer these questions without your name.\n"
    "A message to your coordinator goes with your name. They can write back to you.\n"
    "Your answers to the questions stay without your name.\n"
    "Write to your coordinator with your name?"
)
TALK_WITH_NAME = __("Yes, with my name")

DANGER_HELP = __(
    "Thank you for telling us. Your coordinator will see this soon.\n"
    "If you are in danger or need help now, call:\n{lines}"
)

# The command menu beside the text field.
COMMANDS = (
    ("start", __("Start or go on with your questions")),
    ("help", __("Talk to a person")),
    ("mydata", __("See what we saved about you")),
    ("delete", __("Delete your data")),
    ("language", __("Change your language")),
)

# A coordinator's message, as the participant sees it.
FROM_COORDINATOR = __("A message from your coordinator, {name}:")
ANSWER_COORDINATOR = __("Answer")

# Every button label above. A button has about 30 characters on a phone before Telegram cuts
# it; two buttons that share a row have half that. Tests hold every catalog to these limits.
MAX_BUTTON_LABEL = 30
MAX_SHARED_ROW_LABEL = 16
BUTTONS = (
    CONSENT_YES, CONSENT_NO, WITH_NAME, WITHOUT_NAME, START_SURVEY, CONTINUE_SURVEY, DONE,
    NEXT, PREFER_NOT, WHY_BUTTON, TALK_BUTTON, DELETE_YES, DELETE_NO, CONTACT_ME_YES,
    CONTACT_ME_NO, CONTACT_ME_SEND, CONTACT_ME_DONT_SEND, TALK_WITH_NAME, ANSWER_COORDINATOR,
)  # fmt: skip
SHARED_ROW_BUTTONS = (BACK, SKIP, TALK_SEND, TALK_CANCEL)
