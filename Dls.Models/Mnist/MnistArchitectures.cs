using Dls.Models.Checkpoints;

namespace Dls.Models.Mnist;

/// <summary>Registers the MNIST architectures with <see cref="ModelArchitectures"/> (done automatically).</summary>
internal static class MnistArchitectures
{
    public static void RegisterBuiltIns()
    {
        ModelArchitectures.Register<MnistMlpOptions>(MnistMlp.ArchitectureName, o => new MnistMlp(o));
        ModelArchitectures.Register<LowRankMlpOptions>(LowRankMlp.ArchitectureName, o => new LowRankMlp(o));
    }
}
