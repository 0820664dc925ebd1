"""Microsoft Teams adapter: a Bot Framework bot (botbuilder) with Adaptive Cards and proactive delivery."""
