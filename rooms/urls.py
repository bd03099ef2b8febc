"""Pages and JSON API of the rooms app (included at the root by chatsite/urls.py)."""

from django.urls import path

from rooms import api, views

app_name = "rooms"

urlpatterns = [
    path("rooms/", views.room_list, name="list"),
    path("rooms/new/", views.create_private_room, name="create_private"),
    path("rooms/<slug:slug>/", views.room_detail, name="room"),
    path("rooms/<slug:slug>/invite/", views.invite_to_room, name="invite"),
    path("rooms/<slug:slug>/mute/", views.mute_room, name="mute"),
    path("rooms/<slug:slug>/leave/", views.leave_room, name="leave"),
    path("rooms/<slug:slug>/members/", views.room_members, name="members"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.read_notifications, name="read_notifications"),
    path("notifications/<int:pk>/open/", views.open_notification, name="open_notification"),
    path("dm/", views.open_direct_room, name="open_direct"),
    path("dm/<str:username>/", views.direct_room, name="direct"),
    path("conversations/", views.conversation_list, name="conversations"),
    path("conversations/list/", views.conversations_fragment, name="conversations_fragment"),
    path(
        "conversations/requests/<int:pk>/<str:decision>/",
        views.answer_contact_request,
        name="answer_request",
    ),
    path(
        "conversations/invitations/<int:pk>/<str:decision>/",
        views.answer_invitation,
        name="answer_invitation",
    ),
    path("api/rooms/", api.rooms_list, name="api_rooms"),
    path("api/rooms/<slug:slug>/messages/", api.room_messages, name="api_messages"),
    path("api/rooms/<slug:slug>/read/", api.mark_read, name="api_read"),
    path("api/users/<str:username>/card/", api.user_card, name="api_user_card"),
    path("api/dm/", api.open_direct_room, name="api_dm"),
    path("api/blocks/", api.blocks, name="api_blocks"),
    path("api/blocks/<str:username>/", api.unblock, name="api_unblock"),
    path("api/conversations/", api.conversations, name="api_conversations"),
    path("api/inbox/", api.inbox, name="api_inbox"),
    path("api/rooms/<slug:slug>/mute/", api.mute_room, name="api_mute"),
    path("api/rooms/<slug:slug>/leave/", api.leave_room, name="api_leave"),
    path("api/rooms/<slug:slug>/moderators/", api.set_room_moderator, name="api_moderators"),
    path("api/notifications/", api.notifications, name="api_notifications"),
    path("api/messages/<int:message_id>/", api.message_detail, name="api_message"),
    path(
        "api/messages/<int:message_id>/reactions/",
        api.message_reactions,
        name="api_message_reactions",
    ),
    path(
        "api/messages/<int:message_id>/reactions/<str:emoji>/",
        api.message_reaction,
        name="api_message_reaction",
    ),
    path("api/search/", api.search_messages, name="api_search"),
    path("api/ignores/", api.ignores, name="api_ignores"),
    path("api/ignores/<str:username>/", api.unignore, name="api_unignore"),
]
