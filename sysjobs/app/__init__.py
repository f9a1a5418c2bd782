"""sysjobs.app"""
