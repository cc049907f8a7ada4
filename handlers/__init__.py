"""Channels: each turns its own updates into engine inputs and renders the engine's replies."""
