"""Detection rules: a Sigma dialect with streaming correlations."""

from detectors.rules.ruleset import CompiledCorrelation, CompiledDetection, RuleSet, load_ruleset

__all__ = ["CompiledCorrelation", "CompiledDetection", "RuleSet", "load_ruleset"]
