"""The approvals service: answers Slack's Approve / Reject buttons for promotions waiting at their gate."""
