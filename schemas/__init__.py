"""The data contract of huizong: campaign, roster, form spec, submissions, reports."""
