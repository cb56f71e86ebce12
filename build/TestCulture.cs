using System.Globalization;
using System.Runtime.CompilerServices;

namespace Dls.Tests;

/// <summary>
/// Pins every test assembly to the invariant culture. Messages and figures the tests compare are formatted with the
/// current culture, so a machine's locale (a decimal comma, a U+2212 minus sign) would otherwise change what they read.
/// </summary>
internal static class TestCulture
{
#pragma warning disable CA2255 // a module initializer in a test assembly is exactly the place for process-wide test settings
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Pin()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
    }
}
