"""sysjobs.web"""
