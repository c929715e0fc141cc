"""Repetition penalties on the generated tokens only, for transformers and for llama.cpp: the stock
ones also penalize the prompt's tokens, which keeps a small model from reusing the passages' words."""

from __future__ import annotations


class GeneratedRepetitionPenalty:
    """transformers' repetition penalty, applied to the generated tokens only.

    The stock one also penalizes every prompt token, which stops a small model from reusing
    the passages' words, exactly what an answer grounded in them needs.
    """

    def __init__(self, penalty: float, prompt_length: int):
        self.penalty = penalty
        self.prompt_length = prompt_length

    def __call__(self, input_ids, scores):
        import torch

        generated = input_ids[:, self.prompt_length:]
        if generated.shape[1] == 0 or self.penalty == 1.0:
            return scores
        picked = torch.gather(scores, 1, generated)
        picked = torch.where(picked < 0, picked * self.penalty, picked / self.penalty)
        return scores.scatter(1, generated, picked)


class LlamaGeneratedPenalty:
    """llama.cpp's logits processor for GeneratedRepetitionPenalty: the first call sees the prompt
    alone, so the tokens after its length are the generated ones."""

    def __init__(self, penalty: float):
        self.penalty = penalty
        self.prompt_length: int | None = None

    def __call__(self, input_ids, scores):
        if self.prompt_length is None:
            self.prompt_length = len(input_ids)
        generated = list(set(int(t) for t in input_ids[self.prompt_length:]))
        if not generated or self.penalty == 1.0:
            return scores
        picked = scores[generated]
        scores[generated] = [v * self.penalty if v < 0 else v / self.penalty for v in picked]
        return scores
