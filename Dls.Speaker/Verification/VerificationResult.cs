namespace Dls.Speaker.Verification;

/// <summary>The outcome of one verification trial.</summary>
/// <param name="Score">Cosine similarity between the enrolled embedding and the test embedding, in [−1, 1].</param>
/// <param name="Threshold">The threshold the decision was taken against.</param>
/// <param name="IsSameSpeaker"><see langword="true"/> when <paramref name="Score"/> ≥ <paramref name="Threshold"/>.</param>
public readonly record struct VerificationResult(double Score, double Threshold, bool IsSameSpeaker);
