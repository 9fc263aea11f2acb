"""Report reminders: the hourly job and ``podium incubator remind`` (see ``service``)."""
