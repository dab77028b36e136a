"""Career tools over the index: compare roles, a role's profile, which role fits me."""
