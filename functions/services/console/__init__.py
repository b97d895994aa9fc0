"""The organiser's console (issue 15): accounts, scope, audit, and the views its pages show."""
