"""sysjobs.worker"""
