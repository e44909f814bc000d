"""Study folders: reading and checking a study's folder (study.yaml, protocol versions, own
instruments), previewing what it would schedule and send, and applying it to the database
(`pro study validate|preview|apply`). It stands above the features it configures."""
