using Dls.Speaker.Encoders;
using Dls.Speaker.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dls.Speaker;

/// <summary>Registers the speaker verifier in a service collection.</summary>
public static class SpeakerServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ISpeakerVerifier"/> as a lazily created singleton (disposed with the container) configured by
    /// <see cref="SpeakerVerifierOptions"/>; the options are validated (every problem listed, the model file's sidecar read
    /// and checked) at host start, or when the verifier is first resolved. Calling it again only adds another configuration delegate.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets options; null keeps the defaults (shipped model, its calibrated threshold).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddDlsSpeakerVerifier(this IServiceCollection services, Action<SpeakerVerifierOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        SpeakerArchitectures.Register();
        var builder = services.AddOptions<SpeakerVerifierOptions>();
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SpeakerVerifierOptions>, SpeakerVerifierOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<SpeakerVerifierOptions>>().Value;
            return SpeakerVerifier.Load(o.ModelPath, o.Threshold, o.Embedder);
        });
        services.TryAddSingleton<ISpeakerVerifier>(sp => sp.GetRequiredService<SpeakerVerifier>());
        return services;
    }
}

/// <summary>Validates <see cref="SpeakerVerifierOptions"/>.</summary>
internal sealed class SpeakerVerifierOptionsValidator : IValidateOptions<SpeakerVerifierOptions>
{
    public ValidateOptionsResult Validate(string? name, SpeakerVerifierOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Select(e => "SpeakerVerifierOptions." + e));
    }
}
