"""Watson Assistant dialog skills: reading an export, converting it to blogbot's config folder, and back."""
