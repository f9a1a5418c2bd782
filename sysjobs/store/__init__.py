"""sysjobs.store"""
