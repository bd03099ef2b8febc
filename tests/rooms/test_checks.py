from rooms.checks import check_message_rate_limit


def test_a_malformed_rate_limit_is_reported(settings):
    settings.MESSAGE_RATE_LIMIT = "five per second"
    [error] = check_message_rate_limit(None)
    assert error.id == "rooms.E001" and "MESSAGE_RATE_LIMIT" in error.msg
    settings.MESSAGE_RATE_LIMIT = "off"
    assert check_message_rate_limit(None) == []
    settings.MESSAGE_RATE_LIMIT = "10/2"
    assert check_message_rate_limit(None) == []
