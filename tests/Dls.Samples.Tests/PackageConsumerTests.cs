using Dls.Audio;
using Dls.Audio.IO;
using Dls.Audio.Metrics;

namespace Dls.Samples.Tests;

/// <summary>
/// Uses the libraries as a user does: a console project outside the solution references the packed Dls.Models
/// (and TorchSharp-cpu) from a local folder feed, registers the denoiser with one AddDlsDenoiser call, and
/// denoises a WAV file. The program is the one shown in the README's "Use it from your project" section.
/// </summary>
public sealed class PackageConsumerTests(PackagedLibrariesFixture packages) : IClassFixture<PackagedLibrariesFixture>
{
    internal const string ReadmeProgram = """
        using Dls.Models.Denoising;
        using Microsoft.Extensions.DependencyInjection;

        var services = new ServiceCollection();
        services.AddDlsDenoiser();   // no ModelPath: the default model shipped inside the Dls.Models package

        using ServiceProvider provider = services.BuildServiceProvider();
        IDenoiser denoiser = provider.GetRequiredService<IDenoiser>();
        denoiser.DenoiseFile(args[0], args[1]);
        Console.WriteLine($"{args[0]} -> {args[1]} ({denoiser.Architecture}, {denoiser.ParameterCount:N0} parameters)");
        """;

    [Fact]
    public void ConsoleProject_ReferencingPackages_DenoisesAWavFile()
    {
        Assert.True(packages.PackExitCode == 0, "dotnet pack failed:\n" + packages.PackOutput);
        string project = Path.Combine(packages.Work, "consumer");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Dls.Models" Version="{packages.Version}" />
                <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                <PackageReference Include="Microsoft.Extensions.DependencyInjection" Version="11.0.0" />
              </ItemGroup>
            </Project>
            """);
        // The local feed is added to the machine's usual sources (TorchSharp and Microsoft.Extensions come from there).
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="dls-local" value="{packages.Feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), ReadmeProgram);

        string testData = Path.Combine(RepoPaths.Root, "samples", "data", "denoise", "test");
        string noisy = Path.Combine(testData, "tex0000.wav");
        string cleanPath = Path.Combine(testData, "tes0000.wav");
        string output = Path.Combine(packages.Work, "denoised.wav");

        var (code, log) = DotnetCli.Run(project, TimeSpan.FromMinutes(8), "run", "-c", "Release", "--", noisy, output);
        Assert.True(code == 0, "the consumer project failed:\n" + log);

        // The package carries the libstdc++ fix (buildTransitive) and a model that really denoises: the output is as
        // long as the input and closer to the clean speech than the noisy input was.
        AudioSignal clean = AudioFile.Load(cleanPath);
        AudioSignal input = AudioFile.Load(noisy);
        AudioSignal denoised = AudioFile.Load(output);
        Assert.Equal(input.Samples.Length, denoised.Samples.Length);
        double before = SignalMetrics.SnrDb(clean.Samples, input.Samples);
        double after = SignalMetrics.SnrDb(clean.Samples, denoised.Samples);
        Assert.True(after > before + 1.0, $"expected the denoised file to gain over 1 dB SNR; input {before:F2} dB, output {after:F2} dB");
    }
}
