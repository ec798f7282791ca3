"""Training: examples built from probes and documents, the LoRA loop the weight-changing strategies
share, augmentation with in-context inferences, and the memorization check."""
