"""Integrations of the Albert SDK with other tools (optional; ``import albert`` loads none).

`albert.integrations.assistant_ui`: back an assistant-ui chat front end with
Albert chat history, and drive assistant-ui backends from Python.
"""
