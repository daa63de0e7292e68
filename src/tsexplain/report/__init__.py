"""One self-contained, interactive HTML report about a model and a data set.

``build_report(model, data, "report.html")`` writes a page that works offline (Plotly inlined
once, no request to any server): the data and the model's accuracy, training curves, a
confusion matrix whose cells list their cases, a case browser with every channel coloured by
attribution, and the explanation-quality and benchmark tables when they were computed.
"""

from tsexplain.report.api import build_report, read_training_history
from tsexplain.report.content import DEFAULT_METHODS, choose_sample

__all__ = ["DEFAULT_METHODS", "build_report", "choose_sample", "read_training_history"]
