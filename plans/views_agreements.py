"""The signed agreement for staff on the case page: its PDF, served only here and by the API, after the hash check."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from plans.agreements import AgreementAltered, agreement_download
from plans.models import Agreement


def agreement_pdf_response(agreement: Agreement, content: bytes) -> HttpResponse:
    """The checked bytes as a private attachment."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{agreement.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def agreement_pdf(request, pk: int):
    try:
        agreement, content = agreement_download(agreement_id=pk, actor=request.user)
    except Agreement.DoesNotExist:
        raise Http404 from None
    except AgreementAltered as error:
        context = {"message": error.message, "code": error.code}
        return render(request, "plans/agreement_altered.html", context, status=error.http_status)
    return agreement_pdf_response(agreement, content)
