namespace Dls.Speaker.Data;

/// <summary>A verification trial: two utterances and whether they share a speaker.</summary>
/// <param name="IsTarget"><see langword="true"/> when both utterances come from the same speaker.</param>
/// <param name="First">The first (enrollment) utterance.</param>
/// <param name="Second">The second (test) utterance.</param>
public sealed record Trial(bool IsTarget, SpeakerUtterance First, SpeakerUtterance Second);
