"""Events (contests, forums, fairs, trainings), their tracks, stages and sessions."""
