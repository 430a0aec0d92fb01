"""`/webhooks/whatsapp/` on the platform domain: nothing but verify, store, answer.

Under gunicorn the POSTs are answered by whatsapp/channel/wsgi.py before Django's middleware; this view
serves the GET handshake, and the POSTs under any other WSGI server (tests' client, runserver).
"""

from django.http import HttpResponse
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
        status, content_type, body = intake.render(400, "Body larger than 3 MB.")
    else:
        status, content_type, body = intake.answer(request.body, request.headers.get("X-Hub-Signature-256"))
    return HttpResponse(body, status=status, content_type=content_type)
