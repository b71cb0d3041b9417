"""The patient portal's pages, one module per area: program, study, peers, care."""
