using Dls.Models.Checkpoints;
using Dls.Speaker.Training;

namespace Dls.Speaker.Encoders;

/// <summary>Registers the speaker architectures with <see cref="ModelArchitectures"/> so checkpoints can rebuild them.</summary>
public static class SpeakerArchitectures
{
    /// <summary>Registers <see cref="GruSpeakerEncoder.ArchitectureName"/> and <see cref="SiameseSpeakerModel.ArchitectureName"/>; idempotent.</summary>
    public static void Register()
    {
        ModelArchitectures.Register<GruSpeakerEncoderOptions>(GruSpeakerEncoder.ArchitectureName, o => new GruSpeakerEncoder(o));
        ModelArchitectures.Register<GruSpeakerEncoderOptions>(SiameseSpeakerModel.ArchitectureName, o => new SiameseSpeakerModel(new GruSpeakerEncoder(o)));
    }
}
