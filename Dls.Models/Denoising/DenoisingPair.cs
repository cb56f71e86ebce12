namespace Dls.Models.Denoising;

/// <summary>One noisy/clean example on disk.</summary>
/// <param name="Name">A short name for reports (the mixture's file name without folder).</param>
/// <param name="MixturePath">The noisy recording.</param>
/// <param name="CleanPath">The clean reference.</param>
/// <param name="NoisePath">The noise alone, when the layout stores it (homework layout); otherwise <c>null</c>.</param>
public sealed record DenoisingPair(string Name, string MixturePath, string CleanPath, string? NoisePath);

/// <summary>The folder layouts a paired denoising dataset can have.</summary>
public enum DenoisingLayout
{
    /// <summary>The course homework: <c>trx0000.wav</c> mixture, <c>trs0000.wav</c> clean, <c>trn0000.wav</c> noise
    /// for training, and <c>tex/tes/ten</c> for testing, all in one folder.</summary>
    Homework,

    /// <summary>VoiceBank-DEMAND: sub-folders whose names start with <c>clean</c> and <c>noisy</c>
    /// (e.g. <c>clean_testset_wav</c>, <c>noisy_testset_wav</c>) holding files with identical names.</summary>
    VoiceBank,
}
