"""``citeproc``: citeproc-js finds each macro of a style through an index, not a walk of the whole style.

citeproc-js compiles a style once per engine, and looks each macro up (``CSL.XmlJSON.getNodesByName``) by
walking the whole style tree, once for every call of it: for Chicago author-date (about 170 KB of CSL, macros
calling macros) that walk is about half of the engine's start. The index is built on the first lookup and
gives the same nodes, in the same order, so the same text (tested on the fidelity corpus in three styles).

The JavaScript checks the names it relies on: without ``CSL.XmlJSON.prototype.getNodesByName``, it changes
nothing; a lookup it was not made for (another root, another element, a list to extend) takes the plain path.
"""

from __future__ import annotations

from ..render import citeproc
from .switches import on

MACRO_INDEX = r"""
(function () {
    if (typeof CSL !== "object" || typeof CSL.XmlJSON !== "function"
            || typeof CSL.XmlJSON.prototype.getNodesByName !== "function") {
        return false;
    }
    var plain = CSL.XmlJSON.prototype.getNodesByName;
    CSL.XmlJSON.prototype.getNodesByName = function (root, name, value, found) {
        if (name !== "macro" || !value || found || !root || root !== this.dataObj) {
            return plain.call(this, root, name, value, found);
        }
        if (this.bp_macros_of !== root) {
            var index = {};
            plain.call(this, root, "macro").forEach(function (node) {
                var key = node.attrs && node.attrs.name;
                (index[key] = index[key] || []).push(node);
            });
            this.bp_macros = index;
            this.bp_macros_of = root;
        }
        return (this.bp_macros[value] || []).slice();
    };
    return true;
})();
"""


def install() -> None:
    """Have every citation engine of this process use the macro index, if the speed-up is on."""
    if on("citeproc") and MACRO_INDEX not in citeproc.EXTENSIONS:
        citeproc.EXTENSIONS.append(MACRO_INDEX)
