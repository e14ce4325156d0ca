from django.urls import path

from polls import views

urlpatterns = [
    path("polls/", views.browse, name="browse"),
    path("polls/new/", views.create, name="poll-create"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("p/<str:ref>/", views.poll_detail, name="poll-detail"),
    path("p/<str:ref>/vote/", views.vote, name="poll-vote"),
    path("p/<str:ref>/change/", views.change_vote, name="poll-change-vote"),
    path("p/<str:ref>/retract/", views.retract, name="poll-retract"),
    path("p/<str:ref>/receipt/", views.receipt, name="poll-receipt"),
    path("p/<str:ref>/like/", views.like, name="poll-like"),
    path("p/<str:ref>/report/", views.report, name="poll-report"),
    path("p/<str:ref>/open/", views.set_open, name="poll-set-open"),
    path("p/<str:ref>/edit/", views.edit, name="poll-edit"),
    path("p/<str:ref>/share/", views.share, name="poll-share"),
    path("p/<str:ref>/delete/", views.delete, name="poll-delete"),
    path("p/<str:ref>/invites/", views.manage_invites, name="poll-invites"),
    path("p/<str:ref>/invites/revoke/", views.revoke_invites, name="poll-invites-revoke"),
    path("p/<str:ref>/invites.csv", views.invites_csv, name="poll-invites-csv"),
    path("p/<str:ref>/invites/print/", views.invites_sheet, name="poll-invites-sheet"),
    path("p/<str:ref>/suggest/", views.suggest_option, name="poll-suggest"),
    path("p/<str:ref>/write-ins/", views.write_in_queue, name="poll-write-ins"),
    path("p/<str:ref>/write-ins/<uuid:write_in_id>/", views.decide_write_in, name="poll-write-in-decide"),
    path("i/<str:token>", views.redeem_invite, name="invite-redeem"),
    path("p/<str:ref>/present/", views.present, name="poll-present"),
    path("decks/<str:deck_id>/present/", views.deck_present, name="deck-present"),
    path("j/", views.join, name="join"),
    path("j/<str:code>", views.join_code, name="join-code"),
]
