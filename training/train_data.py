"""The SFT files as a trainer sees them: validated conversations, the rows TRL trains on, a chat
template for tokenizers that ship none, and token statistics for `--dry-run`.

With `loss: completion` each conversation becomes a TRL prompt-completion row (every message but
the last as the prompt, the final assistant answer as the completion), so the loss counts the
answer's tokens only. With `loss: all` it stays a `messages` row and every token counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .jsonl import decode, raw_lines
from .records import RecordError, parse_record

# For a base model with no chat template: role-tagged turns, each closed by the EOS token, so the
# model learns where an answer stops. The generation prompt is the prefix of the assistant turn.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def load_conversations(path: str | Path) -> list[list[dict]]:
    """The messages of every record in a chat JSONL file. A malformed line is a UserError naming
    the file, the line and the field (never the value)."""
    conversations = []
    for number, text in raw_lines(path):
        line = decode(number, text)
        if line.error is not None:
            raise UserError(f"{path}:{number}: {line.error}")
        try:
            record = parse_record(line.value)
        except RecordError as exc:
            raise UserError(f"{path}:{number}: {exc}") from None
        conversations.append([m.to_dict() for m in record.messages])
    if not conversations:
        raise UserError(f"{path}: no records")
    return conversations


def training_rows(conversations: list[list[dict]], loss: str) -> list[dict]:
    if loss == "all":
        return [{"messages": messages} for messages in conversations]
    return [{"prompt": messages[:-1], "completion": messages[-1:]} for messages in conversations]


def ensure_chat_template(tokenizer) -> bool:
    """Give `tokenizer` the fallback template when it has none; True when it was given."""
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    return True


@dataclass(frozen=True)
class TokenStats:
    records: int
    tokens_total: int
    tokens_mean: float
    tokens_max: int
    answer_tokens: int  # tokens of the final answers (what `loss: completion` trains on)
    truncated: int  # records longer than max_seq_length
    no_answer: int = 0  # prompts of max_seq_length+ tokens: no answer token fits (TRL drops them)
    shortest_prompt: int = 0

    def to_dict(self) -> dict:
        return {
            "records": self.records,
            "tokens_total": self.tokens_total,
            "tokens_mean": round(self.tokens_mean, 1),
            "tokens_max": self.tokens_max,
            "answer_tokens": self.answer_tokens,
            "truncated": self.truncated,
            "no_answer": self.no_answer,
        }


def _token_count(tokenizer, messages: list[dict], generation_prompt: bool = False) -> int:
    ids = tokenizer.apply_chat_template(
        messages, tokenize=True, add_generation_prompt=generation_prompt, return_dict=True
    )["input_ids"]
    return len(ids)


def token_stats(tokenizer, conversations: list[list[dict]], max_seq_length: int) -> TokenStats:
    """Token counts of whole conversations as the chat template renders them."""
    lengths, prompts, answers = [], [], 0
    for messages in conversations:
        full = _token_count(tokenizer, messages)
        prompt = _token_count(tokenizer, messages[:-1], generation_prompt=True)
        lengths.append(full)
        prompts.append(prompt)
        answers += max(full - prompt, 0)
    return TokenStats(
        records=len(lengths),
        tokens_total=sum(lengths),
        tokens_mean=sum(lengths) / len(lengths),
        tokens_max=max(lengths),
        answer_tokens=answers,
        truncated=sum(1 for n in lengths if n > max_seq_length),
        no_answer=sum(1 for n in prompts if n >= max_seq_length),
        shortest_prompt=min(prompts),
    )
