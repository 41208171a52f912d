# find_package(utmstack) for an installed utmstack.h (by `cmake --install`
# or `make install`): the header-only target utmstack::utmstack.
include("${CMAKE_CURRENT_LIST_DIR}/utmstack-deps.cmake")
get_filename_component(_utm_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET utmstack::utmstack)
  add_library(utmstack::utmstack INTERFACE IMPORTED)
  set_target_properties(utmstack::utmstack PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_utm_prefix}/include;${UTMSTACK_DEP_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${UTMSTACK_DEP_LIBRARIES}")
endif()
set(utmstack_FOUND TRUE)
