"""The webhooks API: an account's endpoints, their delivery log, redelivery and test messages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from quickpoll.api import UUID_PATTERN, errors_for
from webhooks import services
from webhooks.models import Delivery, Endpoint
from webhooks.serializers import DeliverySerializer, EndpointSerializer, EndpointWriteSerializer, OutboxEventSerializer


@extend_schema(tags=["Webhooks"])
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    """Your webhook endpoints: where QuickPoll sends signed messages about your polls."""

    permission_classes = [IsAuthenticated]
    api_key_scope = api_key_read_scope = "manage_polls"  # reading an endpoint shows its signing secret
    lookup_value_regex = UUID_PATTERN
    serializer_class = EndpointSerializer

    def get_queryset(self):
        return Endpoint.objects.filter(owner_id=self.request.user.pk)

    def get_object(self) -> Endpoint:
        # Another account's endpoint answers 404, as a missing one does.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(summary="Your webhook endpoints", responses={200: EndpointSerializer(many=True), **errors_for(400, 401, 404)})
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointSerializer(page, many=True).data)

    @extend_schema(
        summary="Register an endpoint (its signing secret is in the answer)",
        request=EndpointWriteSerializer,
        responses={201: EndpointSerializer, **errors_for(400, 401, 409)},
    )
    def create(self, request):
        serializer = EndpointWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("is_active", None)
        endpoint = services.create_endpoint(owner=request.user, **data)
        return Response(EndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One of your endpoints", responses={200: EndpointSerializer, **errors_for(401, 404)})
    def retrieve(self, request, pk=None):
        return Response(EndpointSerializer(self.get_object()).data)

    @extend_schema(
        summary="Change an endpoint (switching it on again or pointing it elsewhere clears its failing state)",
        request=EndpointWriteSerializer,
        responses={200: EndpointSerializer, **errors_for(400, 401, 404)},
    )
    def update(self, request, pk=None, partial=False):
        endpoint = self.get_object()
        serializer = EndpointWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint=endpoint, actor=request.user, **serializer.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Change some of an endpoint's settings",
        request=EndpointWriteSerializer,
        responses={200: EndpointSerializer, **errors_for(400, 401, 404)},
    )
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete an endpoint and its delivery log", responses={204: None, **errors_for(401, 404)})
    def destroy(self, request, pk=None):
        services.delete_endpoint(endpoint=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="An endpoint's delivery log: every attempt, newest first",
        responses={200: DeliverySerializer(many=True), **errors_for(400, 401, 404)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        attempts = Delivery.objects.filter(endpoint=endpoint).select_related("outbox_event")
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Queue a webhook.test message to the endpoint",
        request=None,
        responses={202: OutboxEventSerializer, **errors_for(401, 404)},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        event = services.send_test(endpoint=self.get_object(), actor=request.user)
        return Response(OutboxEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="A new signing secret, in force at once",
        request=None,
        responses={200: EndpointSerializer, **errors_for(401, 404)},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.rotate_secret(endpoint=self.get_object(), actor=request.user)
        return Response(EndpointSerializer(endpoint).data)


@extend_schema(tags=["Webhooks"])
class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    """One attempt of the delivery log, and sending its message again."""

    permission_classes = [IsAuthenticated]
    api_key_scope = api_key_read_scope = "manage_polls"
    lookup_value_regex = UUID_PATTERN
    serializer_class = DeliverySerializer

    def get_object(self) -> Delivery:
        mine = Delivery.objects.filter(endpoint__owner_id=self.request.user.pk).select_related("outbox_event__endpoint")
        return get_object_or_404(mine, pk=self.kwargs["pk"])

    @extend_schema(summary="One delivery attempt", responses={200: DeliverySerializer, **errors_for(401, 404)})
    def retrieve(self, request, pk=None):
        return Response(DeliverySerializer(self.get_object()).data)

    @extend_schema(
        summary="Send this attempt's message again (same id and body), now",
        request=None,
        responses={202: OutboxEventSerializer, **errors_for(401, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        event = services.redeliver(outbox_event=self.get_object().outbox_event, actor=request.user)
        return Response(OutboxEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)
