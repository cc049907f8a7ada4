"""What coordinators read in Telegram: flag categories and severities, buttons and replies.
Marked for translation here, translated where they are shown."""

from __future__ import annotations

from bot.language import __

CATEGORY_LABELS = {
    "danger": __("Danger signs in an answer"),
    "wants_to_stop": __("Wants to stop"),
    "may_stop": __("Not sure about going on"),
    "not_going_well": __("It is not going well"),
    "unhappy_with_match": __("Unhappy with the match"),
    "not_met": __("Has not met"),
    "asks_for_coordinator": __("Asks for the coordinator"),
    "talk_to_person": __("Wants to talk to a person"),
    "life_event": __("News: job or education"),
    "unreachable": __("Cannot be reached"),
    "withdrew": __("Withdrew and deleted their data"),
    "voice_answer": __("Voice answer to review"),
    "match_ending": __("The match is near its planned end"),
}
SEVERITY_LABELS = {"urgent": __("URGENT"), "soon": __("Soon"), "info": __("Info")}
TAKE = __("Take it")
RESOLVE = __("Resolved")
OPEN = __("Open")
REPLY = __("Reply")
TAKEN_BY = __("Taken by {name}.")
ASK_OUTCOME = __("Write a short note on the outcome, then send it.")
ASK_REPLY = __(
    "Write your message to {who}, then send it. The bot sends it in your name, as it is."
)
MESSAGE_SENT = __("Sent to {who}. Their answer will come to you here.")
MESSAGE_UNDELIVERABLE = __(
    "The message could not be delivered: the person has blocked the bot or left Telegram. "
    "It is kept on the flag."
)
PARTICIPANT_USAGE = __("Send /participant and a number, for example: /participant 12")
CANNOT_REPLY = __("This flag is anonymous: nobody can be messaged about it.")
PARTICIPANT_WROTE = __("Participant wrote")
COORDINATOR_WROTE = __("Coordinator wrote")
RESOLVED_BY = __("Resolved by {name}: {note}")
ANONYMOUS = __("(anonymous)")
PARTICIPANT = __("participant {number}")
DIGEST_SOON = __("Good morning. These flags need an answer soon:")
NO_OPEN_FLAGS = __("No open flags.")
LINKED = __("Welcome, {name}. You will get urgent flags of your programme here. Send /flags.")
BAD_INVITE = __("This code is not valid or has expired. Ask an admin for a new one.")
NOT_YOURS = __("This flag is not in your programmes.")
