"""The patient portal's forms, one module per area. Forms validate; they never save."""
