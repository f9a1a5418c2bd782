"""sysjobs.bindings"""
