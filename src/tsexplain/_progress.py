"""Progress bars: tqdm's notebook widget where Jupyter widgets are installed, its text bar
everywhere else.

``tqdm.auto`` picks the widget inside a Jupyter kernel and, when ``ipywidgets`` is missing,
falls back to the text bar with a warning printed under the first cell that imports it. The
text bar works in a notebook too, so the fallback is silent here.
"""

import warnings

from tqdm import TqdmWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", TqdmWarning)
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
