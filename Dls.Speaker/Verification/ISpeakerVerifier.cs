namespace Dls.Speaker.Verification;

/// <summary>
/// Speaker verification on plain audio: enroll a speaker from one or more utterances, then decide whether a test
/// utterance is theirs. Implementations are thread-safe.
/// </summary>
public interface ISpeakerVerifier
{
    /// <summary>The rate the model works at, in Hz (other rates are resampled).</summary>
    int SampleRate { get; }

    /// <summary>The cosine threshold decisions are taken against.</summary>
    double Threshold { get; }

    /// <summary>Embeds one utterance (unit length).</summary>
    /// <exception cref="ArgumentException">Too short, silent or non-finite audio, or a rate the model cannot be resampled from.</exception>
    float[] Embed(ReadOnlySpan<float> samples, int sampleRate);

    /// <summary>Embeds a WAV file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The file's rate is one the model cannot be resampled from.</exception>
    float[] EmbedFile(string path);

    /// <summary>Enrolls a speaker from utterances at <paramref name="sampleRate"/>.</summary>
    /// <exception cref="ArgumentException">No utterance, or a bad one (the message says which).</exception>
    SpeakerEnrollment Enroll(IEnumerable<float[]> utterances, int sampleRate);

    /// <summary>Enrolls a speaker from WAV files.</summary>
    /// <exception cref="ArgumentException">No file given, or a file whose audio is too short, silent or not finite.</exception>
    /// <exception cref="InvalidDataException">A file is malformed.</exception>
    /// <exception cref="NotSupportedException">A file's rate is one the model cannot be resampled from.</exception>
    SpeakerEnrollment EnrollFiles(IEnumerable<string> paths);

    /// <summary>Scores a test utterance against an enrolled speaker and decides.</summary>
    /// <exception cref="ArgumentException">An enrollment whose length is not this model's embedding size, or too short,
    /// silent or non-finite audio.</exception>
    VerificationResult Verify(SpeakerEnrollment enrolled, ReadOnlySpan<float> samples, int sampleRate);

    /// <summary>Scores a test WAV file against an enrolled speaker and decides.</summary>
    /// <exception cref="ArgumentException">An enrollment whose length is not this model's embedding size, or audio that is
    /// too short, silent or not finite (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The file's rate is one the model cannot be resampled from.</exception>
    VerificationResult VerifyFile(SpeakerEnrollment enrolled, string path);
}
