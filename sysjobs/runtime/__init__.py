"""sysjobs.runtime"""
