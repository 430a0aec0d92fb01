"""`/webhooks/whatsapp/` on the platform domain: nothing but verify, store, answer."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import intake


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if request.method == "GET":
        if intake.verify_subscription(request.GET.get("hub.mode"), request.GET.get("hub.verify_token")):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponse("Verification failed.", status=403, content_type="text/plain")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > intake.MAX_BODY_BYTES:
        return JsonResponse({"error": "Body larger than 3 MB."}, status=400)
    try:
        intake.accept(request.body, request.headers.get("X-Hub-Signature-256"))
    except intake.WebhookRefused as refused:
        return JsonResponse({"error": refused.reason}, status=refused.status)
    return HttpResponse("OK", content_type="text/plain")
