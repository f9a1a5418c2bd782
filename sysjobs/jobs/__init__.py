"""sysjobs.jobs"""
