from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from cases.selectors import visible_cases


@login_required
def worklist(request):
    return render(request, "cases/worklist.html", {})


@login_required
def supervisor(request):
    return render(request, "cases/supervisor.html", {})


@login_required
def case_detail(request, pk: int):
    case = get_object_or_404(visible_cases(request.user), pk=pk)
    return render(request, "cases/case_detail.html", {"case": case})
