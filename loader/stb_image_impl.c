/* The stb_image and stb_image_write implementations, compiled once, from the
   Debian libstb-dev headers. Only PNG and BMP are decoded by stb (JPEG goes to
   libjpeg-turbo, see loader/jpeg_decode.h), and files are never opened by stb:
   y26 reads (and bounds) the bytes itself. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#include <stb_image.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
