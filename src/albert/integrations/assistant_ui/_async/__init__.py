"""The async variant of the assistant-ui client and of thread saving (hand-written).

The sync variant, `albert.integrations.assistant_ui._sync`, is generated from it.
"""
