"""The public portal's pages (nobody signed in): invitations and preferences, the directory, a study's self-referral."""
