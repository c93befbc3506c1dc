"""The case page's timeline section on its own, for its kind filter and "show more"."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from cases.selectors import visible_cases
from reporting.timeline import timeline_context


@login_required
@require_safe
def case_timeline(request, pk: int):
    """The section for htmx; a plain request goes to the case page, which reads the same query string."""
    case = get_object_or_404(visible_cases(request.user), pk=pk)
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('cases:detail', args=[case.pk])}{'?' + query if query else ''}#case-timeline")
    return render(request, "cases/_timeline.html", timeline_context(case=case, params=request.GET))
