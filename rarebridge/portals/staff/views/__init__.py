"""The staff portal's pages, one module per area: people (patients, invitations, counsellors, matching, crisis resources, programs, audit), safety, study, directory, care."""
