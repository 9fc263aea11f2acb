"""The directory of universities, colleges, companies, associations and government bodies."""
