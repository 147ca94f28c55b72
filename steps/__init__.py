"""Step definitions: parse the feature's words, call a probe and a criterion, expect()."""
