"""Telegram connector: channel posts and bot conversations through python-telegram-bot."""
