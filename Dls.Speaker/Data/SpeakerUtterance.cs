namespace Dls.Speaker.Data;

/// <summary>One utterance of a speaker dataset: who speaks and where the audio file is.</summary>
/// <param name="SpeakerId">The speaker's identifier (folder name, or the VoxCeleb <c>idNNNNN</c>).</param>
/// <param name="Path">Full path of the WAV file.</param>
/// <param name="Key">Path relative to the dataset root with '/' separators (what trial lists refer to).</param>
public sealed record SpeakerUtterance(string SpeakerId, string Path, string Key);
